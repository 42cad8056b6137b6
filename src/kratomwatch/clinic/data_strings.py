"""Patient-facing texts of the data files, for the translation catalogs.

Written by ``data_msgids`` (kratomwatch.clinic.data_msgids) from the knowledge base, the
evidence library, the project's own questionnaires and the clinical core's labels and dose
messages: do not edit by hand.

About 550 lines: one entry for each text, all written at once by one command and read only
by makemessages.
"""

from django.utils.translation import gettext_noop as _

MSGIDS = [
    # rule interaction.opioid_agonist
    _('Kratom with an opioid agonist'),
    # rule interaction.opioid_agonist
    _('Kratom acts on the same body system as opioid painkillers. Taking them together can make you very sleepy and slow your breathing. Tell your care team about every opioid you take. If you or someone with you cannot stay awake or is breathing very slowly, call emergency services.'),
    # rule interaction.benzodiazepine
    _('Kratom with a benzodiazepine or Z-drug'),
    # rule interaction.benzodiazepine
    _('Kratom together with sleeping pills or anxiety pills such as diazepam, alprazolam or zolpidem can make you very sleepy and slow your breathing. Do not change these medicines on your own; talk to your care team. If someone cannot be woken or is breathing very slowly, call emergency services.'),
    # rule interaction.gabapentinoid
    _('Kratom with gabapentin or pregabalin'),
    # rule interaction.gabapentinoid
    _('Gabapentin or pregabalin together with kratom can make you very drowsy and slow your breathing. Tell your care team if you feel very sleepy, confused or short of breath.'),
    # rule interaction.alcohol
    _('Kratom with alcohol'),
    # rule interaction.alcohol
    _('Drinking alcohol while using kratom can make you very sleepy and slow your breathing, and both can harm the liver. Talk to your care team about how much you drink.'),
    # rule interaction.barbiturate
    _('Kratom with a barbiturate'),
    # rule interaction.barbiturate
    _('Your medicine list includes a strong sedative (a barbiturate). With kratom it can make you dangerously sleepy and slow your breathing. Talk to your care team before taking them together.'),
    # rule interaction.muscle_relaxant
    _('Kratom with a centrally acting muscle relaxant'),
    # rule interaction.muscle_relaxant
    _('Muscle relaxant tablets and kratom can both make you drowsy. Together they can make you very sleepy or unsteady. Take care with driving and tell your care team if you feel very drowsy.'),
    # rule interaction.sedating_antihistamine
    _('Kratom with a sedating antihistamine'),
    # rule interaction.sedating_antihistamine
    _('Some allergy, travel-sickness and night-time cold or sleep medicines make you drowsy, and kratom can add to this. Check with a pharmacist or your care team before using them.'),
    # rule interaction.cns_depressant_other
    _('Kratom with another CNS depressant'),
    # rule interaction.cns_depressant_other
    _('One of your medicines or other substances can make you sleepy, and kratom can add to this. Tell your care team if you feel very drowsy, dizzy or faint.'),
    # rule interaction.antipsychotic
    _('Kratom with an antipsychotic'),
    # rule interaction.antipsychotic
    _('Tell the doctor who prescribes your mental health medicine that you use kratom. Together they may make you very sleepy. Do not stop your medicine without talking to them.'),
    # rule interaction.quetiapine
    _('Kratom with quetiapine (fatal case report)'),
    # rule interaction.quetiapine
    _('Quetiapine (Seroquel) and kratom together may be dangerous. One death has been reported. Talk to your care team and the doctor who prescribes quetiapine; do not change your dose on your own.'),
    # rule interaction.maoi
    _('Kratom with an MAO inhibitor (no kratom data; opioid-class caution)'),
    # rule interaction.maoi
    _('One of your medicines (an MAO inhibitor) needs care with kratom. Tell your care team, and get help at once if you have fever, shaking, muscle jerks, heavy sweating or confusion.'),
    # rule interaction.paracetamol_high_dose
    _('Paracetamol above 4 g a day with kratom'),
    # rule interaction.paracetamol_high_dose
    _('You may be taking more paracetamol (acetaminophen) a day than is safe for the liver. Please check the daily limit on the label, count paracetamol in combination products too, and talk with your care team.'),
    # rule interaction.loperamide_high_dose
    _('Loperamide above its labelled daily limit: risk of fatal arrhythmia'),
    # rule interaction.loperamide_high_dose
    _('Taking more loperamide (Imodium) than the label allows can cause dangerous heart rhythm problems and death, even if it seems to ease withdrawal. Please talk with your care team about it soon. If you faint, have a racing or irregular heartbeat or chest pain, call emergency services.'),
    # rule interaction.stimulant
    _('Kratom with a stimulant'),
    # rule interaction.stimulant
    _('Kratom can make your heart beat faster, and so can stimulant medicines, energy drinks and some street drugs. Tell your care team if you notice a racing heart, chest pain or feeling very agitated.'),
    # rule interaction.modafinil
    _('Kratom with modafinil or armodafinil (seizure case report)'),
    # rule interaction.modafinil
    _('A seizure (fit) has been reported in someone who took kratom with modafinil. Talk to your care team about this combination. If you have a seizure, get urgent medical help.'),
    # rule interaction.qt_prolonging
    _('Kratom with a QT-prolonging drug'),
    # rule interaction.qt_prolonging
    _('One of your medicines can affect your heart rhythm, and kratom may add to this. Your care team may check a heart tracing (ECG). Get urgent help if you faint or feel your heart racing or fluttering.'),
    # rule interaction.seizure_threshold
    _('Kratom with a drug that lowers the seizure threshold'),
    # rule interaction.seizure_threshold
    _('One of your medicines can make seizures (fits) more likely, and seizures have also been reported with kratom. If you have a seizure, get urgent medical help, and tell your care team about any fits or blackouts.'),
    # rule interaction.naltrexone
    _('Kratom with naltrexone: precipitated withdrawal'),
    # rule interaction.naltrexone
    _('Naltrexone can cause sudden, severe withdrawal in people who take kratom regularly. Make sure the doctor who prescribes naltrexone knows you use kratom before you take a dose.'),
    # rule interaction.opioid_antagonist_other
    _('Kratom with nalmefene or samidorphan'),
    # rule interaction.opioid_antagonist_other
    _('One of your medicines blocks opioids and may cause withdrawal if you take kratom regularly. Tell the doctor who prescribes it that you use kratom. Emergency overdose sprays or injections should still be used when needed.'),
    # rule interaction.buprenorphine
    _('Kratom with buprenorphine'),
    # rule interaction.buprenorphine
    _('Tell the person who prescribes your buprenorphine that you use kratom. Starting buprenorphine too soon after kratom can bring on withdrawal, and using both can make you sleepy.'),
    # rule interaction.mixed_agonist_antagonist
    _('Kratom with butorphanol, nalbuphine or pentazocine'),
    # rule interaction.mixed_agonist_antagonist
    _('Some strong painkillers (butorphanol, nalbuphine, pentazocine) can cause withdrawal in people who use kratom every day. Tell whoever prescribes them that you use kratom.'),
    # rule interaction.methadone
    _('Kratom with methadone'),
    # rule interaction.methadone
    _('Tell your methadone clinic or prescriber that you use kratom. Together they can make you very sleepy and may affect your heart rhythm. Kratom does not show up on the usual urine drug tests, so your clinic only knows if you tell them.'),
    # rule interaction.cyp3a_substrate_nti
    _('Kratom may raise levels of a sensitive CYP3A substrate'),
    # rule interaction.cyp3a_substrate_nti
    _('Kratom can raise the amount of some medicines in your blood, which can make their side effects stronger. Tell your care team if you start, stop or change your kratom use.'),
    # rule interaction.cyp3a_strong_inhibitor
    _('Strong CYP3A inhibitor: unpredictable change in kratom effects'),
    # rule interaction.cyp3a_strong_inhibitor
    _('One of your medicines changes how your body breaks down kratom. Kratom may feel stronger or weaker while you take it and after you stop it. Tell your care team if you notice a change.'),
    # rule interaction.cyp3a_strong_inducer
    _('Strong CYP3A inducer: kratom effects may fall, then rise when stopped'),
    # rule interaction.cyp3a_strong_inducer
    _('One of your medicines may make kratom wear off faster. When you stop that medicine, kratom may suddenly feel much stronger. Tell your care team before starting or stopping it.'),
    # rule interaction.hepatotoxic
    _('Kratom with a hepatotoxic drug'),
    # rule interaction.hepatotoxic
    _('Kratom and one of your medicines can both, rarely, harm the liver. Contact your care team straight away if your skin or eyes turn yellow, your urine becomes dark, or you get itching or pain in your upper tummy.'),
    # rule condition.pregnancy
    _('Kratom use in pregnancy: neonatal withdrawal'),
    # rule condition.pregnancy
    _('Using kratom while pregnant can cause withdrawal in your baby after birth. Please tell your midwife or obstetrician that you use kratom, and talk with your care team before making any change, so you and your baby can be looked after safely.'),
    # rule condition.breastfeeding
    _('Kratom use while breastfeeding: no safety data'),
    # rule condition.breastfeeding
    _('We do not know if kratom passes into breast milk or how it affects babies. Similar medicines can make babies very sleepy or affect their breathing. Talk with your care team, and get urgent help if your baby is very sleepy, feeds poorly or has trouble breathing.'),
    # rule condition.liver_disease
    _('Kratom use with liver disease'),
    # rule condition.liver_disease
    _('Kratom has, rarely, harmed the liver, and your liver is already affected. Your care team may check your liver with blood tests. Contact them straight away if your skin or eyes turn yellow or your urine becomes dark.'),
    # rule condition.respiratory_disease
    _('Kratom use with chronic lung disease or sleep apnoea'),
    # rule condition.respiratory_disease
    _('Kratom acts on the same receptors as opioids, which can slow breathing, especially during sleep. Because of your lung condition or sleep apnoea, please talk with your care team about it, keep using your CPAP or oxygen as prescribed, and avoid mixing kratom with alcohol or sleeping medicines.'),
    # rule condition.seizure_disorder
    _('Kratom use with a seizure disorder'),
    # rule condition.seizure_disorder
    _('Seizures (fits) have been reported with kratom. Tell your care team and your epilepsy doctor that you use kratom, and tell them if your seizures become more frequent.'),
    # rule condition.arrhythmia_long_qt
    _('Kratom use with an arrhythmia or long QT'),
    # rule condition.arrhythmia_long_qt
    _('Kratom can make your heart beat faster and may affect heart rhythm. Tell your heart doctor that you use kratom. Get urgent help if you faint, have chest pain or feel your heart racing.'),
    # rule condition.sud_history
    _('Kratom use with a history of substance use disorder'),
    # rule condition.sud_history
    _('People who have had problems with alcohol or drugs before are more likely to have problems with kratom too. Your care team will check in about this regularly; tell them if you feel your use is getting harder to control.'),
    # rule condition.sud_in_treatment
    _('Kratom use during treatment for substance use disorder'),
    # rule condition.sud_in_treatment
    _('Please tell your addiction treatment team that you use kratom. It can interact with treatment medicines such as naltrexone, buprenorphine and methadone, and it does not show up on the usual drug tests.'),
    # rule condition.psychiatric
    _('Kratom use with a psychiatric condition'),
    # rule condition.psychiatric
    _('Kratom can affect your mood, and cutting down can bring on low mood or anxiety for a while. Tell your care team about changes in how you feel, and do not stop your mental health medicines without talking to your doctor.'),
    # rule condition.older_age
    _('Kratom use at 65 or older'),
    # rule condition.older_age
    _('As we get older, medicines that act like kratom are more likely to cause drowsiness, dizziness, confusion and falls. Tell your care team if you feel unsteady or very sleepy.'),
    # rule condition.minor
    _('Kratom use by someone under 18'),
    # rule condition.minor
    _('Kratom has not been studied in people under 18, so its effects and risks at your age are not known. Please talk with your care team about your kratom use.'),
    # rule condition.depression_severe
    _('PHQ-9 moderately severe or severe depression'),
    # rule condition.depression_severe
    _('Your answers suggest you have been feeling very low. You are not alone, and help is available. Your care team will talk with you about support and treatment.'),
    # rule product.high_risk_7oh
    _("Concentrated 7-OH or 'enhanced' kratom product"),
    # rule product.high_risk_7oh
    _("Your product is a concentrated 7-OH or 'enhanced' product. These are much stronger than kratom leaf and act like strong opioids, with a higher risk of overdose and addiction. Please talk with your care team about it. If someone cannot be woken or is breathing very slowly, call emergency services."),
    # rule product.possibly_concentrated_7oh
    _('Possibly a concentrated 7-OH product (7-OH content unknown)'),
    # rule product.possibly_concentrated_7oh
    _('Your product may be a concentrated 7-OH product, which can be much stronger than kratom leaf and act like a strong opioid. Please show your care team the label. If someone cannot be woken or is breathing very slowly, call emergency services.'),
    # rule product.potency_unknown
    _('Product strength unknown'),
    # rule product.potency_unknown
    _('We do not know how strong your product is. Please tell your care team the brand, product name and batch number, and let them know before you switch to a different product.'),
    # rule product.lot_semisynthetic_7oh
    _("A lot's lab figures show a 7-OH share typical of semi-synthetic products"),
    # rule product.lot_semisynthetic_7oh
    _('The lab results of one of your products show a lot of 7-OH, much more than kratom leaf has. Products like this act like strong opioids. Please talk with your care team about it. If someone cannot be woken or is breathing very slowly, call emergency services.'),
    # rule product.lot_over_jurisdiction_cap
    _("A lot's 7-OH share is over the cap of the clinic's jurisdiction"),
    # rule product.lot_over_jurisdiction_cap
    _('The lab results of one of your products show more 7-OH than the law where your clinic is allows. Please talk with your care team about it before your next purchase.'),
    # rule product.lot_cap_unverifiable
    _("A lot whose 7-OH share cannot be checked against the jurisdiction's cap"),
    # rule product.lot_cap_unverifiable
    _("If you have the lab certificate of this product's lot, please add it or show it to your care team."),
    # rule product.adulteration_risk
    _('Extract or unusual product: risk of adulteration or mislabelling'),
    # rule product.adulteration_risk
    _('Kratom extracts and unusual products are sometimes stronger than their labels say, or contain other drugs. Tell your care team exactly what you use and where you buy it.'),
    # rule red_flag.seizure
    _('Seizure reported'),
    # rule red_flag.seizure
    _('A seizure (fit) needs urgent medical care. If it is happening now, lasts more than 5 minutes, or the person does not wake up properly, call emergency services. Otherwise get urgent care today and tell them you use kratom.'),
    # rule red_flag.liver_injury
    _('Possible liver injury: jaundice or dark urine'),
    # rule red_flag.liver_injury
    _('Yellow skin or eyes, or dark urine, can be a sign of liver damage, which kratom has caused in some people. Get urgent medical care today and tell them you use kratom.'),
    # rule red_flag.chest_pain
    _('Chest pain reported'),
    # rule red_flag.chest_pain
    _('Chest pain can be an emergency. Call emergency services now, especially if the pain is severe, spreads to your arm, jaw or back, or you feel short of breath, sweaty or faint. Tell them you use kratom.'),
    # rule red_flag.fainting
    _('Fainting reported'),
    # rule red_flag.fainting
    _('Fainting or passing out needs to be checked today. If the person does not wake up quickly, is breathing slowly or has chest pain, call emergency services. Tell the doctor you use kratom.'),
    # rule red_flag.breathing_difficulty
    _('Breathing difficulty or slow, shallow breathing'),
    # rule red_flag.breathing_difficulty
    _('Trouble breathing, or very slow or shallow breathing, is an emergency. Call emergency services now. If you have naloxone and the person is hard to wake, give it. Tell them about kratom and any other medicines.'),
    # rule red_flag.extreme_drowsiness
    _('Extreme drowsiness: cannot stay awake'),
    # rule red_flag.extreme_drowsiness
    _('Not being able to stay awake is a warning sign. If someone cannot be woken or is breathing slowly, call emergency services now, and give naloxone if you have it. Otherwise get urgent medical care today and tell them you use kratom.'),
    # rule red_flag.suicidal_thoughts
    _('Thoughts of suicide or self-harm reported'),
    # rule red_flag.suicidal_thoughts
    _('Thank you for telling us. You deserve support right now. If you are in the US, call or text 988 (Suicide & Crisis Lifeline); elsewhere call your local emergency number or crisis line. If you are in danger now, call emergency services. Your care team will also contact you.'),
    # rule red_flag.phq9_self_harm
    _('PHQ-9 item 9: thoughts of death or self-harm'),
    # rule red_flag.phq9_self_harm
    _('You told us you have had thoughts of being better off dead or of hurting yourself. You deserve support. If you are in the US, call or text 988 (Suicide & Crisis Lifeline); elsewhere call your local emergency number or crisis line. If you are in danger now, call emergency services. Your care team will contact you.'),
    # rule dependence.withdrawal_checklist_high
    _('High withdrawal checklist total (unvalidated checklist)'),
    # rule dependence.withdrawal_checklist_high
    _('Your answers show strong withdrawal-type symptoms. Please talk to your care team; they can help with these symptoms and review your plan.'),
    # rule dependence.induction_precipitated
    _('Withdrawal worse after a buprenorphine dose: possible precipitated withdrawal'),
    # rule dependence.induction_precipitated
    _('Your withdrawal got worse after your buprenorphine dose. Contact your care team now. If you feel very unwell, get urgent care.'),
    # rule dependence.induction_sedation
    _('Marked sedation logged during the buprenorphine transition'),
    # rule dependence.induction_sedation
    _('If you are very sleepy, hard to wake or breathing slowly, someone should call emergency services now. Tell your care team about any other medicines or alcohol you have taken.'),
    # rule dependence.induction_depressants
    _('Other sedating medicines during the buprenorphine transition'),
    # rule dependence.induction_depressants
    _('Some of your other medicines can make you sleepier with buprenorphine. Do not drink alcohol, and tell your care team if you feel very drowsy.'),
    # rule dependence.induction_kratom_use
    _('Kratom recorded after the first buprenorphine dose'),
    # rule dependence.induction_kratom_use
    _('You recorded kratom after starting buprenorphine. That is fine to tell us: your care team will talk it through with you.'),
    # rule dependence.high_daily_amount
    _('Very high daily amounts of kratom'),
    # rule dependence.high_daily_amount
    _('You have recorded large daily amounts of kratom. Please talk with your care team about your use and agree a plan together.'),
    # rule dependence.frequent_dosing
    _('Dosing three or more times a day'),
    # rule dependence.frequent_dosing
    _('You have been taking kratom three or more times a day. Taking it often is linked with stronger withdrawal and dependence. Please talk about this with your care team at your next visit.'),
    # rule dependence.daily_use
    _('Near-daily use over four weeks'),
    # rule dependence.daily_use
    _('You have used kratom on most days for the past four weeks. Your body may now depend on it, so stopping suddenly could cause withdrawal. Talk with your care team before making big changes.'),
    # rule dependence.withdrawal_symptoms_reported
    _('Symptoms that may be kratom withdrawal'),
    # rule dependence.withdrawal_symptoms_reported
    _('Some of the symptoms you reported can happen when kratom wears off. They can have other causes too. Tell your care team when they happen and whether they follow a missed or smaller dose.'),
    # rule tolerance.dose_rising_without_benefit
    _('Dose rising without pain improvement'),
    # rule tolerance.dose_rising_without_benefit
    _('Your kratom use has gone up over the last two weeks, but your pain has not improved. Please talk with your care team about this.'),
    # rule tolerance.rapid_escalation
    _('Rapid dose escalation'),
    # rule tolerance.rapid_escalation
    _('Your kratom use has gone up a lot in the last week. Please contact your care team soon. If you feel very sleepy or someone notices slow breathing, get urgent help.'),
    # rule benefit.below_moderate_improvement
    _('Less than 30%% pain improvement after 90 days at a stable dose'),
    # rule benefit.below_moderate_improvement
    _('After three months, your pain has not improved as much as we would hope. Your care team will talk with you about whether kratom is helping and about other options.'),
    # rule benefit.no_minimal_improvement
    _('No minimally important pain improvement after 90 days'),
    # rule benefit.no_minimal_improvement
    _('After three months, your pain scores have not improved. Your care team will talk with you about whether to continue and what else might help your pain.'),
    # rule result.liver_injury_with_jaundice
    _('Liver injury with raised bilirubin during kratom use'),
    # rule result.liver_injury_with_jaundice
    _('Your recent blood tests show that your liver may be under strain. Your care team will contact you about this. Get urgent medical help if your skin or eyes turn yellow, your urine turns dark, or you feel very unwell.'),
    # rule result.liver_injury
    _('Liver tests at the level of drug-induced liver injury during kratom use'),
    # rule result.liver_injury
    _('Your recent blood tests show that your liver may be under strain. Your care team will talk with you about this. Get urgent medical help if your skin or eyes turn yellow or your urine turns dark.'),
    # rule result.liver_tests_raised
    _('Raised liver tests during kratom use'),
    # rule result.liver_tests_raised
    _('One of your recent liver blood tests is higher than usual. Your care team may repeat the test. Tell them if your skin or eyes turn yellow or your urine turns dark.'),
    # rule result.qtc_prolonged_with_qt_drug
    _('QTc above 500 ms during kratom use with a QT-prolonging drug'),
    # rule result.qtc_prolonged_with_qt_drug
    _('Your recent heart tracing (ECG) shows a change in your heart rhythm. Your care team will contact you about your medicines. Get urgent medical help if you faint, or feel your heart racing or fluttering.'),
    # rule result.qtc_prolonged
    _('QTc above 500 ms during kratom use'),
    # rule result.qtc_prolonged
    _('Your recent heart tracing (ECG) shows a change in your heart rhythm. Your care team will talk with you about it. Get urgent medical help if you faint, or feel your heart racing or fluttering.'),
    # symptom seizure
    _('Seizure or fit'),
    # symptom jaundice
    _('Yellow skin or eyes (jaundice)'),
    # symptom dark_urine
    _('Dark urine (tea- or cola-coloured)'),
    # symptom chest_pain
    _('Chest pain or tightness'),
    # symptom fainting
    _('Fainting or passing out'),
    # symptom breathing_difficulty
    _('Difficulty breathing or slow, shallow breathing'),
    # symptom extreme_drowsiness
    _("Extreme drowsiness (can't stay awake, very hard to wake)"),
    # symptom suicidal_thoughts
    _('Thoughts of suicide or self-harm'),
    # symptom constipation
    _('Constipation'),
    # symptom nausea
    _('Nausea (feeling sick)'),
    # symptom vomiting
    _('Vomiting'),
    # symptom dry_mouth
    _('Dry mouth'),
    # symptom sweating
    _('Sweating'),
    # symptom dizziness
    _('Dizziness or light-headedness'),
    # symptom itching
    _('Itching'),
    # symptom poor_appetite
    _('Poor appetite'),
    # symptom weight_loss
    _('Weight loss'),
    # symptom insomnia
    _('Trouble sleeping (insomnia)'),
    # symptom fast_heartbeat
    _('Fast or pounding heartbeat'),
    # symptom tremor
    _('Shaking or tremor'),
    # symptom anxiety
    _('Anxiety or nervousness'),
    # symptom irritability
    _('Irritability or agitation'),
    # symptom restlessness
    _('Restlessness'),
    # symptom diarrhoea
    _('Diarrhoea'),
    # symptom runny_nose
    _('Runny nose or watery eyes'),
    # symptom yawning
    _('Yawning a lot'),
    # symptom muscle_aches
    _('Muscle, bone or joint aches'),
    # symptom hot_cold_flushes
    _('Hot flushes, chills or goosebumps'),
    # symptom low_mood
    _('Low mood'),
    # symptom headache
    _('Headache'),
    # symptom drowsiness
    _('Drowsiness (sleepy but easy to wake)'),
    # verdict contradicted
    _('Contradicted by the evidence'),
    # verdict unsupported
    _('Not supported by evidence'),
    # verdict misleading
    _('Misleading'),
    # verdict partly_true
    _('Partly true'),
    # evidence grade clinical_study
    _('Clinical study'),
    # evidence grade observational
    _('Observational study'),
    # evidence grade case_reports
    _('Case reports'),
    # evidence grade in_vitro
    _('Laboratory (in vitro)'),
    # evidence grade animal
    _('Animal study'),
    # evidence grade extrapolated_from_opioid_class
    _('Extrapolated from opioids (no kratom-specific study)'),
    # evidence grade expert_consensus
    _("Expert consensus / project's own screening choice"),
    # evidence grade no_evidence
    _('No evidence found'),
    # condition low_back_pain
    _('Chronic low back pain'),
    # condition neuropathic_pain
    _('Neuropathic pain'),
    # condition fibromyalgia
    _('Fibromyalgia'),
    # condition other_pain
    _('Other chronic pain'),
    # condition pregnancy
    _('Pregnancy'),
    # condition breastfeeding
    _('Breastfeeding'),
    # condition liver_disease
    _('Liver disease'),
    # condition arrhythmia_long_qt
    _('Cardiac arrhythmia or long QT'),
    # condition seizure_disorder
    _('Seizure disorder'),
    # condition sud_history
    _('History of substance use disorder'),
    # condition sud_in_treatment
    _('Substance use disorder, in treatment'),
    # condition psychiatric
    _('Psychiatric condition'),
    # condition respiratory_disease
    _('Chronic lung disease or sleep apnoea'),
    # phenotype poor
    _('Poor metabolizer'),
    # phenotype intermediate
    _('Intermediate metabolizer'),
    # phenotype normal
    _('Normal metabolizer'),
    # phenotype rapid
    _('Rapid metabolizer'),
    # phenotype ultrarapid
    _('Ultrarapid metabolizer'),
    # phenotype indeterminate
    _('Indeterminate'),
    # lab test alt
    _('ALT (alanine aminotransferase)'),
    # lab test ast
    _('AST (aspartate aminotransferase)'),
    # lab test alp
    _('ALP (alkaline phosphatase)'),
    # lab test bilirubin
    _('Total bilirubin'),
    # lab test qtc
    _('QTc (corrected QT interval, ECG)'),
    # drug-screen item mitragynine
    _('Mitragynine (kratom)'),
    # drug-screen item hydroxymitragynine
    _('7-hydroxymitragynine (kratom)'),
    # drug-screen item opioids
    _('Opiates / opioids'),
    # drug-screen item oxycodone
    _('Oxycodone'),
    # drug-screen item fentanyl
    _('Fentanyl'),
    # drug-screen item buprenorphine
    _('Buprenorphine'),
    # drug-screen item methadone
    _('Methadone'),
    # drug-screen item benzodiazepines
    _('Benzodiazepines'),
    # drug-screen item amphetamines
    _('Amphetamines'),
    # drug-screen item cocaine
    _('Cocaine'),
    # drug-screen item cannabinoids
    _('Cannabinoids (THC)'),
    # drug-screen item barbiturates
    _('Barbiturates'),
    # claim claim_not_addictive
    _('Kratom is not addictive.'),
    # claim claim_not_addictive
    _('Many people who use kratom regularly need more for the same effect and feel unwell when they stop. Studies differ a lot: in one large online survey about 2 in 100 users met the medical definition of kratom addiction, in others about 1 in 4, and in heavy daily users almost all. Some babies born to mothers who used kratom have gone through withdrawal. Doctors have treated kratom addiction with opioid-addiction medicines such as buprenorphine.'),
    # claim claim_dopamine_natural
    _('Kratom works by naturally modulating dopamine.'),
    # claim claim_dopamine_natural
    _("Kratom's main known action is on the body's opioid receptors, the same targets that morphine uses. The idea that it works through dopamine comes from review articles, not from tests in people. In a mouse study, the main kratom compound actually lowered dopamine release. No study has shown that kratom balances or improves dopamine in humans."),
    # claim claim_trials_back_pain
    _('Clinical trials show it relieves chronic back pain.'),
    # claim claim_trials_back_pain
    _('We could not find any clinical trial of kratom in people with chronic back pain. The only controlled study tested healthy young men with an ice-water pain test and left out people with long-term pain. Surveys in which users say kratom helps are worth listening to, but they cannot show that it works or that it is safe.'),
    # claim claim_safe_starting_dose
    _('1-3 g is a safe starting dose.'),
    # claim claim_safe_starting_dose
    _('1-3 g is the amount many people in one online survey said they usually take. That tells us what people do, not what is safe, and no doctor-tested safe dose exists. Products differ a lot in strength, and some sold as kratom are far stronger than leaf. Even a single 2 g dose changed how the body handled another medicine in a study.'),
    # claim claim_topical_extracts
    _('Topical extracts relieve pain.'),
    # claim claim_topical_extracts
    _('We found no studies of kratom put on the skin. Every human study we found used kratom that was swallowed. So there is no evidence that creams or oils work, and their strength and safety are unknown.'),
    # claim claim_dopamine_monitoring
    _('Monitoring dopamine levels can personalise treatment.'),
    # claim claim_dopamine_monitoring
    _('There is no blood, urine or brain test of dopamine that can tell anyone how much kratom to take or whether it is working. No such test has been developed or studied for kratom. What your care team can track is your pain, your daily activities, side effects and signs of dependence.'),
    # claim claim_side_effects_mild
    _('Its side effects are only mild.'),
    # claim claim_side_effects_mild
    _('Many people report only mild problems such as nausea or constipation. But poison centres have recorded seizures, breathing problems, a racing heart and coma, and rare but serious liver damage has been reported. Deaths have happened, mostly when kratom was mixed with other drugs. That is why your care team checks in with you regularly.'),
    # claim claim_fibromyalgia
    _('Fibromyalgia patients report significant improvements.'),
    # claim claim_fibromyalgia
    _('We found no research study of kratom in people with fibromyalgia; this claim appears on websites that sell kratom. Some people with long-term pain say kratom helps them, but without a comparison group nobody can tell how much of that is due to kratom. Other fibromyalgia treatments have been tested in clinical trials, and your care team can talk these through with you.'),
    # claim claim_jpr_2017_allodynia_rats
    _('A 2017 Journal of Pain Research study showed kratom reduced allodynia in rats.'),
    # claim claim_jpr_2017_allodynia_rats
    _('We could not find this study. A related real study, published in 2022, was done in mice, not rats: a kratom compound reduced nerve pain caused by a cancer drug. Results in animals often do not hold in people, so this does not show that kratom works for human pain.'),
    # claim claim_7oh_same_as_kratom
    _('7-OH products are just a stronger form of natural kratom.'),
    # claim claim_7oh_same_as_kratom
    _('Kratom leaf contains almost no 7-OH. The "7-OH" products tested contained many times more 7-OH than leaf, and their chemical make-up did not match the plant, which means they were made in a lab. The FDA has recommended that these concentrated products be placed under controlled-substance rules.'),
    # claim claim_no_drug_interactions
    _('Kratom is herbal, so it does not interact with medicines.'),
    # claim claim_no_drug_interactions
    _('In a study of healthy adults, one cup of kratom tea raised the level of a sedative medicine (midazolam) in the blood by about 40%%. People who had taken kratom with other substances were more likely to end up in hospital. A medicine used for addiction, naltrexone, has caused sudden withdrawal in people who were taking kratom. Please tell every prescriber that you use kratom.'),
    # instrument kw-daily-pain
    _('KratomWatch daily pain check-in'),
    # instrument kw-daily-pain
    _('Daily pain check-in'),
    # instrument kw-daily-pain
    _('Answer each question with one number from 0 to 10.'),
    # instrument kw-daily-pain
    _('How bad is your pain right now?'),
    # instrument kw-daily-pain
    _('No pain'),
    # instrument kw-daily-pain
    _('Worst pain you can imagine'),
    # instrument kw-daily-pain
    _('Over the last 24 hours, how bad was your pain on average?'),
    # instrument kw-daily-pain
    _('Over the last 24 hours, how much did pain get in the way of your everyday activities (work, chores, getting around)?'),
    # instrument kw-daily-pain
    _('Not at all'),
    # instrument kw-daily-pain
    _('Completely'),
    # instrument kw-daily-pain
    _('Over the last 24 hours, how much did pain get in the way of enjoying life?'),
    # instrument kw-daily-pain
    _('Over the last 24 hours, how well did you sleep?'),
    # instrument kw-daily-pain
    _('Very badly'),
    # instrument kw-daily-pain
    _('Very well'),
    # instrument kw-use-criteria
    _('KratomWatch kratom use criteria checklist (clinician)'),
    # instrument kw-use-criteria
    _('Use criteria checklist'),
    # instrument kw-use-criteria
    _('Mark each domain present only after talking it through with the patient, for the past 12 months.'),
    # instrument kw-use-criteria
    _('Often takes more kratom, or keeps taking it for longer, than they set out to.'),
    # instrument kw-use-criteria
    _('Absent'),
    # instrument kw-use-criteria
    _('Present'),
    # instrument kw-use-criteria
    _('Keeps wanting to cut down or control their use, or has tried and not managed.'),
    # instrument kw-use-criteria
    _('Spends a lot of time getting kratom, taking it, or getting over its effects.'),
    # instrument kw-use-criteria
    _('Has cravings or strong urges to take kratom.'),
    # instrument kw-use-criteria
    _('Use has repeatedly led to falling short at work, school or home (for example missed shifts or neglected family duties).'),
    # instrument kw-use-criteria
    _('Keeps using even though it causes or worsens repeated problems with other people.'),
    # instrument kw-use-criteria
    _('Has dropped or cut back important social, work or leisure activities because of use.'),
    # instrument kw-use-criteria
    _('Repeatedly uses in situations where it is physically risky (for example driving).'),
    # instrument kw-use-criteria
    _('Keeps using while knowing it probably causes or worsens an ongoing physical or mental health problem.'),
    # instrument kw-use-criteria
    _('Needs clearly more kratom for the same effect, or gets clearly less from the same amount.'),
    # instrument kw-use-criteria
    _('Gets withdrawal symptoms when cutting down or stopping, or takes kratom (or a similar substance) to avoid them.'),
    # instrument kw-withdrawal
    _('KratomWatch kratom withdrawal symptom checklist'),
    # instrument kw-withdrawal
    _('Withdrawal checklist'),
    # instrument kw-withdrawal
    _('For each symptom, choose how much it has bothered you in the last 24 hours.'),
    # instrument kw-withdrawal
    _('Strong urges or cravings to take kratom'),
    # instrument kw-withdrawal
    _('None'),
    # instrument kw-withdrawal
    _('Mild'),
    # instrument kw-withdrawal
    _('Moderate'),
    # instrument kw-withdrawal
    _('Severe'),
    # instrument kw-withdrawal
    _('Feeling restless or unable to settle'),
    # instrument kw-withdrawal
    _('Feeling irritable, tense or short-tempered'),
    # instrument kw-withdrawal
    _('Aching muscles, bones or joints beyond your usual pain'),
    # instrument kw-withdrawal
    _('Hot flushes, chills or sweating'),
    # instrument kw-withdrawal
    _('Diarrhoea or loose stools'),
    # instrument kw-withdrawal
    _('Trouble getting to sleep or staying asleep'),
    # instrument kw-withdrawal
    _('Feeling low, sad or down'),
    # instrument kw-withdrawal
    _('Feeling anxious or nervous'),
    # instrument kw-withdrawal
    _('Jerking or kicking movements of the arms or legs'),
    # product form leaf_powder
    _('Leaf powder'),
    # product form crushed_leaf
    _('Crushed leaf'),
    # product form capsule
    _('Capsules (leaf powder)'),
    # product form tablet
    _('Tablets (leaf powder)'),
    # product form tea_liquid
    _('Tea or liquid'),
    # product form extract
    _('Extract'),
    # product form seven_oh
    _('7-OH product (7-hydroxymitragynine)'),
    # product form enhanced
    _('Enhanced or fortified product'),
    # product form topical
    _('Topical (applied to the skin)'),
    # product form other
    _('Other'),
    # unit g
    _('grams (g) of product'),
    # unit mg
    _('milligrams (mg) of product'),
    # unit capsule
    _('capsules'),
    # unit tablet
    _('tablets'),
    # unit ml
    _('millilitres (ml)'),
    # dose message amount_missing
    _('Amount is missing: enter a number greater than 0, e.g. 2.5.'),
    # dose message amount_bool
    _('Amount must be a number, not true/false: enter a number greater than 0, e.g. 2.5.'),
    # dose message amount_not_finite
    _('Amount must be a finite number: enter a number greater than 0, e.g. 2.5.'),
    # dose message amount_ambiguous_comma
    _('Amount {value} contains a comma, which is ambiguous (1,5 could mean 1.5 or 15): write it with a dot as the decimal separator and no thousands separator.'),
    # dose message amount_not_numeric_text
    _('Amount {value} is not a number: enter a number greater than 0, e.g. 2.5.'),
    # dose message amount_not_numeric
    _('Amount must be a number: enter a number greater than 0, e.g. 2.5.'),
    # dose message amount_not_positive
    _('Amount must be greater than 0.'),
    # dose message amount_too_large
    _('Amount must be at most {maximum}.'),
    # dose message amount_too_precise
    _('Amount may have at most {places} decimal places.'),
    # dose message unit_missing
    _('Unit is missing: choose one of {accepted}.'),
    # dose message unit_unknown
    _('Unit {value} is not recognised: use one of {accepted}.'),
    # dose message unit_not_allowed
    _('Unit {value} cannot be used for {form}: use {allowed}.'),
    # dose message unit_not_allowed_tea
    _('Unit {value} cannot be used for {form}: use {allowed}. For tea made from a weighed amount of leaf and drunk in full, record the grams against the leaf product.'),
    # dose message taken_at_missing
    _('Time taken is missing: enter when the dose was taken.'),
    # dose message taken_at_invalid
    _('Time taken must be a date and time with a time zone (ISO 8601).'),
    # dose message taken_at_naive
    _('Time taken has no time zone, so the day it belongs to is ambiguous: give the time with its time zone.'),
    # dose message taken_at_future
    _('Time taken is in the future: accepted up to {minutes} minutes after now. Check the date and AM/PM.'),
    # dose message amount_implausible
    _('Amount {quantity} of {form} is implausible for one dose: accepted is more than 0 and at most {maximum}. Check the amount and the unit.'),
    # dose message amount_step
    _('Amount {quantity} cannot be counted: {units} are counted in steps of {step}. Record the mass in g or mg instead.'),
    # dose message exposure_implausible
    _("Amount {quantity} works out to {value} {unit} of {what}; accepted is at most {limit} {unit} per dose. Check the amount, the unit and the product's details."),
    # dose message mg_probably_g
    _('{quantity} of {form} is only {grams} g. Did you mean {amount} g? Confirm only if {quantity} is right; it will not be changed.'),
    # dose message amount_high
    _('{quantity} of {form} is more than {maximum}, which is unusual for one dose. Please confirm the amount and the unit are right.'),
    # dose message exposure_high
    _("{quantity} works out to {value} {unit} of {what}, more than {limit} {unit}. Please confirm the amount, the unit and the product's potency are right."),
    # product form leaf_powder, as dose messages name it
    _('leaf powder'),
    # product form crushed_leaf, as dose messages name it
    _('crushed leaf'),
    # product form capsule, as dose messages name it
    _('capsules (leaf powder)'),
    # product form tablet, as dose messages name it
    _('tablets (leaf powder)'),
    # product form tea_liquid, as dose messages name it
    _('tea or liquid'),
    # product form extract, as dose messages name it
    _('extract'),
    # product form seven_oh, as dose messages name it
    _('7-oh product (7-hydroxymitragynine)'),
    # product form enhanced, as dose messages name it
    _('enhanced or fortified product'),
    # product form topical, as dose messages name it
    _('topical (applied to the skin)'),
    # product form other, as dose messages name it
    _('other'),
    # exposure leaf_equivalent_g
    _('leaf'),
    # exposure mitragynine_mg
    _('mitragynine'),
    # exposure hydroxymitragynine_mg
    _('7-hydroxymitragynine (7-OH)'),
]
